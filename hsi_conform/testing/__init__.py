"""Test-support tools shipped with hsi-conform (hostile-archive builders, strategies, corpora)."""
