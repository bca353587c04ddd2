"""The golden corpus and the reader test kit: fixtures loader, corpus export, reader harness and adapters."""
