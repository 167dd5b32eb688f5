"""Build hook (hatchling): ship the repository's vectors/ inside the wheel.

The vectors stay at the repository root, where tools/genvectors writes them; a wheel
carries them as ``parley_conformance/vectors``, where ``find_vectors()`` looks.  An
editable install gets nothing: there ``find_vectors()`` reads the checkout's vectors/
(a copy in site-packages would go stale, and would shadow the editable package).
"""

from hatchling.builders.hooks.plugin.interface import BuildHookInterface


class VectorsHook(BuildHookInterface):
    def initialize(self, version: str, build_data: dict) -> None:
        if self.target_name == "wheel" and version == "standard":
            build_data["force_include"]["vectors"] = "parley_conformance/vectors"
