"""All of the Python package's tests on this interpreter: the behaviour tests and the
differential test (both loops), then CPython's test_streams on the stock loop and on
uvloop. Prints "N passed, N failed" for the whole run; exits non-zero on any failure
(test_streams: on any failure not listed in test_streams_cpython.KNOWN)."""

import os
import re
import subprocess
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))


def run_unittests():
    sys.path.insert(0, HERE)
    suite = unittest.defaultTestLoader.loadTestsFromNames(["test_behaviour", "test_awaitables", "test_selector", "test_loop_events", "test_coalesce", "test_differential"])
    result = unittest.TextTestRunner(verbosity=1).run(suite)
    failed = len(result.failures) + len(result.errors) + len(result.unexpectedSuccesses)
    return result.testsRun - failed - len(result.skipped), failed, len(result.skipped)


def run_test_streams(loop):
    proc = subprocess.run(
        [sys.executable, os.path.join(HERE, "test_streams_cpython.py"), loop],
        stdout=subprocess.PIPE, text=True,
    )
    print(proc.stdout, end="")
    m = re.search(r"^(\d+) passed, (\d+) failed", proc.stdout, re.M)
    passed, failed = (int(m.group(1)), int(m.group(2))) if m else (0, 1)
    unlisted = len(re.findall(r"\(NOT LISTED\)$", proc.stdout, re.M))
    # The listed failures (each with its reason) count as expected failures.
    return passed, unlisted, failed - unlisted, proc.returncode == 0


def main():
    passed, failed, skipped = run_unittests()
    ok = failed == 0
    known = 0
    for loop in ("stock", "uvloop"):
        p, f, k, clean = run_test_streams(loop)
        passed += p
        failed += f
        known += k
        ok &= clean
    version = "python%d.%d" % sys.version_info[:2]
    if known:
        print(f"{version}: {known} expected failure(s): listed, with the reason, in the README")
    print(f"{version}: {passed} passed, {failed} failed, {skipped} skipped")
    sys.exit(0 if ok and failed == 0 else 1)


if __name__ == "__main__":
    main()
