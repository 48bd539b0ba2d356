"""The shell around the core: observe -> decide -> persist -> act (engine.py; its record
and the fenced writes in fence.py), the actions carried out (actions.py), the reads
(observe.py), the ports (ports.py), the one composition root (compose.py), preflight's
reads (preflight.py, which feed the first tick) and guard's loop (guard.py). The
in-memory AWS of --dry-run and the unit tests is a package of its own: fakeaws/."""
