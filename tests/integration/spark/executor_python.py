"""Submitted by test_cluster.py with a PEX as the Python: a Python function on the executors
(an RDD map) that answers with the interpreter it ran in."""

import json
import sys

from pyspark.sql import SparkSession

spark = SparkSession.builder.appName("executor-python").getOrCreate()
answers = spark.sparkContext.parallelize(range(100), 4).map(lambda n: (n * n, sys.executable))
found = answers.collect()
print(json.dumps({"sum": sum(s for s, _ in found), "pythons": sorted({p for _, p in found})}))
spark.stop()
