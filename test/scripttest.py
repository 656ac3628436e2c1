"""scripttest.py - the tiny runner shared by the script-style tests (test_cli.py,
test_convert.py): every module-level function named t_* runs once; failures print their
traceback; the last line is "N passed, N failed" and the exit status says whether all passed.
A module's scratch directory, its module-level TMP, is removed after a run in which every test
passed (test_convert's holds some 350 MB of exported models), and kept, with its path printed,
for a look after a failure."""
import os
import shutil
import traceback


def run(namespace):
    tests = [v for k, v in sorted(namespace.items()) if k.startswith("t_") and callable(v)]
    passed = failed = 0
    for t in tests:
        try:
            t()
            passed += 1
            print(f"ok   {t.__name__}")
        except Exception:
            failed += 1
            print(f"FAIL {t.__name__}")
            traceback.print_exc()
    tmp = namespace.get("TMP")
    if isinstance(tmp, str) and os.path.isdir(tmp):
        if failed:
            print(f"scratch files kept in {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0
