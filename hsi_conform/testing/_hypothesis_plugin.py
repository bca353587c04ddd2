"""Registration of hsi-conform's strategies with Hypothesis (the ``hypothesis`` entry point group).

Hypothesis calls :func:`_hypothesis_setup_hook` when it is imported (unless ``HYPOTHESIS_NO_PLUGINS`` is set),
so ``st.from_type(Header)``, ``st.from_type(ValidContainer)``, ``st.from_type(ContainerBytes)`` and
``st.from_type(Mutant)`` work in any project that has hsi-conform installed. The strategies themselves are
deferred: they are built on first use only.
"""

from __future__ import annotations


def _hypothesis_setup_hook() -> None:
    """Register the type strategies and the settings profiles of hsi-conform."""
    from hypothesis import strategies as st

    from hsi_conform.header import Header
    from hsi_conform.testing import strategies as hst
    from hsi_conform.testing.generate import ValidContainer

    st.register_type_strategy(Header, st.deferred(hst.headers))
    st.register_type_strategy(ValidContainer, st.deferred(hst.valid_containers))
    st.register_type_strategy(hst.ContainerBytes, st.deferred(
        lambda: hst.valid_containers().map(lambda vc: hst.ContainerBytes(vc.data))))
    st.register_type_strategy(hst.Mutant, st.deferred(hst.mutants))
    hst.register_profiles()
