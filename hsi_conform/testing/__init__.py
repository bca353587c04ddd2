"""Test-support tools shipped with hsi-conform (hostile-archive builders, strategies, corpora, assertions).

``assert_conformant(path_or_report)`` asserts that a container conforms, failing with the text report; the pytest
plugin (:mod:`hsi_conform.testing.pytest_plugin`) adds the fixtures ``hsi_sample_container`` and
``hsi_broken_container``.
"""

from hsi_conform.testing.assertions import assert_conformant

__all__ = ["assert_conformant"]
