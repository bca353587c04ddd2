"""Registration of hsi-conform's strategies with Hypothesis (the ``hypothesis`` entry point group).

Hypothesis calls :func:`_hypothesis_setup_hook` when it is imported (unless ``HYPOTHESIS_NO_PLUGINS`` is set),
so ``st.from_type(Header)``, ``st.from_type(ValidContainer)``, ``st.from_type(ContainerBytes)`` and
``st.from_type(Mutant)`` work in any project that has hsi-conform installed. The strategies themselves are
deferred: they are built on first use only.
"""

from __future__ import annotations

import sys

_STRATEGIES = "hsi_conform.testing.strategies"


def _hypothesis_setup_hook() -> None:
    """Register the type strategies and the settings profiles of hsi-conform.

    Importing the strategies module registers them. When that module is itself being imported (it imports
    Hypothesis, which runs this hook), it is left alone: it registers when its own import finishes.
    """
    if _STRATEGIES in sys.modules:
        return
    import hsi_conform.testing.strategies  # noqa: F401  (registers on import)
