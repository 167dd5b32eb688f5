"""The thin I/O shells of the ``parley`` tool around the sans-IO core.

The core (``parley.connection``) does no I/O, reads no clock and draws no
randomness (it is given ``SystemEntropy``).  Everything else lives here, one
idea per module:

* ``transport`` -- TCP: addresses, connect/accept, timeouts (§13.2);
* ``session``   -- the sender and receiver loops that connect core and I/O;
* ``header``    -- the tool's application header (§7.1, §14) and file-name sanitising;
* ``sink``      -- temporary file, committed by rename after ``EndOfStream`` (§14);
* ``keyfiles``  -- passwords, new key files with mode 0600, loading keys (§12);
* ``progress``  -- the terminal progress bar;
* ``ready``     -- ``receive --ready-file``: the listening address, as JSON, for supervisors;
* ``memory``    -- the allocator setting for 256 KiB records, and peak RSS.
"""
