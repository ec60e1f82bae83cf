"""A test module run by python3 on heapcaps' malloc (tests/preload/run.sh): builtins, containers,
text, compression, hashing, sqlite, threads and a forked child, with deterministic output."""
import hashlib
import json
import os
import random
import re
import sqlite3
import subprocess
import sys
import threading
import unittest
import zlib


class Heap(unittest.TestCase):
    def test_containers(self):
        d = {i: str(i) * (i % 50) for i in range(50000)}
        self.assertEqual(sum(len(v) for v in d.values()), sum(len(str(i)) * (i % 50) for i in range(50000)))
        lst = [bytearray(i % 4097) for i in range(5000)]
        self.assertEqual(sum(map(len, lst)), sum(i % 4097 for i in range(5000)))
        del d, lst
        big = b"x" * (64 << 20)
        self.assertEqual(len(big), 64 << 20)

    def test_text(self):
        rng = random.Random(7)
        words = ["".join(rng.choice("abcdefgh") for _ in range(rng.randint(1, 12))) for _ in range(20000)]
        text = " ".join(words)
        self.assertEqual(len(re.findall(r"\bab\w*", text)), sum(w.startswith("ab") for w in words))
        self.assertEqual(json.loads(json.dumps(words)), words)
        print("sha256", hashlib.sha256(text.encode()).hexdigest())

    def test_zlib(self):
        data = bytes(range(256)) * 20000
        self.assertEqual(zlib.decompress(zlib.compress(data, 9)), data)

    def test_sqlite(self):
        db = sqlite3.connect(":memory:")
        db.execute("create table t(a integer, b text)")
        db.executemany("insert into t values(?, ?)", ((i, "v%d" % (i * 7 % 1000)) for i in range(50000)))
        self.assertEqual(db.execute("select count(distinct b), sum(a) from t").fetchone(), (1000, 1249975000))

    def test_threads(self):
        out = []
        lock = threading.Lock()

        def work(k):
            acc = [str(i) * 3 for i in range(20000 + k)]
            with lock:
                out.append(len(acc))

        ts = [threading.Thread(target=work, args=(k,)) for k in range(8)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        self.assertEqual(sorted(out), [20000 + k for k in range(8)])

    def test_fork(self):
        pid = os.fork()
        if pid == 0:
            x = [bytes(1000) for _ in range(1000)]
            os._exit(0 if len(x) == 1000 else 1)
        _, status = os.waitpid(pid, 0)
        self.assertEqual(status, 0)
        r = subprocess.run([sys.executable, "-c", "print(sum(range(1000)))"], capture_output=True, text=True)
        self.assertEqual(r.stdout, "499500\n")


if __name__ == "__main__":
    unittest.main(verbosity=2)
