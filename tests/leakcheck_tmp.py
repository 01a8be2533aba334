import pytest
from pyspark.sql import SparkSession

@pytest.fixture(autouse=True)
def _leak_check(request):
    s = SparkSession.getActiveSession()
    before = set()
    if s is not None:
        before = {int(k) for k in s.sparkContext._jsc.getPersistentRDDs().keySet().toArray()}
    yield
    s = SparkSession.getActiveSession()
    if s is not None:
        after = {int(k) for k in s.sparkContext._jsc.getPersistentRDDs().keySet().toArray()}
        if after - before or before - after:
            with open("/tmp/leaks.txt", "a") as f:
                f.write(f"{request.node.nodeid} new={sorted(after-before)} gone={sorted(before-after)}\n")
