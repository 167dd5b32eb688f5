"""Generator of the Parley v1 test vectors (spec/parley.md), used by ``tools/genvectors``.

Modules:

* :mod:`.common`   -- the documented seed, the fixed long-term keys, frame views, JSON output;
* :mod:`.positive` -- complete sessions with every intermediate value (§5, §6, §7);
* :mod:`.negative` -- mutated transcripts and the error each must produce (§9.3, §11);
* :mod:`.replay`   -- plays one party of a vector against the reference (``parley``);
* :mod:`.appendix` -- the human-readable traces of Appendix B of the spec.

This package imports the reference implementation.  The independent checker
``tools/checkvectors`` must not import it (nor this package).
"""
