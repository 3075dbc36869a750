"""Run CPython's own test.test_asyncio.test_streams (from the installed stdlib) against
aiostreams after aiostreams.install(), on the stock loop or on uvloop.

Usage: python test_streams_cpython.py [stock|uvloop]

Prints every failing test, then "N passed, N failed". Exits non-zero when a test fails
that is not in KNOWN (each entry says why it cannot pass); a known failure that passes
is reported so the list stays honest.
"""

import asyncio
import sys
import unittest

import aiostreams

# (loop, test name) -> why it fails with aiostreams (kept in sync with the README).
KNOWN = {
    ("uvloop", "test_read_all_from_pipe_reader"): (
        "uvloop's policy has no child watchers: asyncio.set_child_watcher() raises "
        "NotImplementedError before any stream is read; fails the same way with "
        "asyncio's own streams on uvloop (run this file with --baseline)"
    ),
}


def _recording(outcome, add):
    """A ``TestResult.add*`` method that also records ``outcome`` for the test."""

    def method(self, test, *args):
        add(self, test, *args)
        self.outcomes[test.id()] = outcome

    return method


class Result(unittest.TextTestResult):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.outcomes = {}

    addSuccess = _recording("passed", unittest.TextTestResult.addSuccess)
    addFailure = _recording("failed", unittest.TextTestResult.addFailure)
    addError = _recording("failed", unittest.TextTestResult.addError)
    addSkip = _recording("skipped", unittest.TextTestResult.addSkip)
    addExpectedFailure = _recording("passed", unittest.TextTestResult.addExpectedFailure)
    addUnexpectedSuccess = _recording("failed", unittest.TextTestResult.addUnexpectedSuccess)


def main():
    which = sys.argv[1] if len(sys.argv) > 1 else "stock"
    baseline = "--baseline" in sys.argv  # asyncio's own streams, to compare
    if not baseline:
        aiostreams.install()
        assert asyncio.StreamReader is aiostreams.StreamReader
    import test.test_asyncio.test_streams as mod

    if which == "uvloop":
        import uvloop

        class Loop(uvloop.Loop):
            # test_asyncio's close_loop() reads this private attribute of the stock loop.
            _default_executor = None

        # test_streams resets the policy in tearDownModule; set it for every test.
        class Policy(uvloop.EventLoopPolicy):
            def new_event_loop(self):
                return Loop()

        orig_setup = mod.StreamTests.setUp

        def setUp(self):
            asyncio.set_event_loop_policy(Policy())
            orig_setup(self)

        mod.StreamTests.setUp = setUp
    suite = unittest.defaultTestLoader.loadTestsFromModule(mod)
    runner = unittest.TextTestRunner(resultclass=Result, verbosity=0, stream=sys.stderr)
    result = runner.run(suite)
    passed = failed = skipped = 0
    unlisted = []
    for test_id, outcome in sorted(result.outcomes.items()):
        name = test_id.rsplit(".", 1)[-1]
        known = KNOWN.get((which, name))
        if outcome == "passed":
            passed += 1
            if known:
                print(f"known failure now passes (remove it from KNOWN): {name}")
        elif outcome == "skipped":
            skipped += 1
        else:
            failed += 1
            print(f"FAILED {name}" + (f" (known: {known})" if known else " (NOT LISTED)"))
            if not known:
                unlisted.append(name)
    version = sys.version.split()[0]
    how = "asyncio's own streams" if baseline else "after aiostreams.install()"
    print(f"test_streams on the {which} loop, Python {version}, {how}:")
    print(f"{passed} passed, {failed} failed, {skipped} skipped")
    sys.exit(1 if unlisted else 0)


if __name__ == "__main__":
    main()
