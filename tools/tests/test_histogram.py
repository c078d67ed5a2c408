"""Tests of cabench_py.histogram: the Python reading of Histogram::Serialize()."""
import sys
import unittest

from helpers import TOOLS, load

sys.path.insert(0, TOOLS)
from cabench_py import histogram  # noqa: E402


class HistogramTest(unittest.TestCase):
    def test_layout_matches_the_cpp_constants(self):
        self.assertEqual(histogram.NUM_BUCKETS, 3969)  # as in every serialized header
        self.assertEqual(histogram.bucket_lower(255), 255)
        self.assertEqual(histogram.bucket_width(255), 1)
        # 256 ns starts the 2-wide buckets: 256, 258, ...
        self.assertEqual(histogram.bucket_lower(256), 256)
        self.assertEqual(histogram.bucket_width(256), 2)
        self.assertEqual(histogram.bucket_lower(257), 258)

    def test_empty_histogram(self):
        h = histogram.parse("cbhist 1 7 3969 0 0 0 0")
        self.assertEqual(h.count, 0)
        self.assertEqual(h.percentile(99), 0.0)
        self.assertEqual(h.mean(), 0.0)

    def test_small_histogram_percentiles(self):
        # 10, 20 and 300 ns (300 falls in bucket 256 + (300 - 256) / 2 = 278, width 2).
        h = histogram.parse("cbhist 1 7 3969 3 330 10 300 10:1 20:1 278:1")
        self.assertEqual(h.percentile(0), 10.0)      # min, exactly
        self.assertEqual(h.percentile(50), 20.0)     # rank 2: bucket 20, width 1
        self.assertEqual(h.percentile(100), 300.0)   # max, exactly
        self.assertEqual(h.percentile(99), 300.0)    # last rank is the max
        self.assertAlmostEqual(h.mean(), 110.0)

    def test_every_fixture_histogram_parses(self):
        hists = load("histograms_read_heavy.json")
        for name, text in hists.items():
            h = histogram.parse(text)
            self.assertEqual(sum(n for _, n in h.buckets), h.count, name)

    def test_garbled_text_is_rejected(self):
        bad = [
            "", "cbhist", "hist 1 7 3969 0 0 0 0", "cbhist 2 7 3969 0 0 0 0",
            "cbhist 1 8 3969 0 0 0 0", "cbhist 1 7 3969 2 30 10 20 10:1",  # counts != count
            "cbhist 1 7 3969 2 30 10 20 20:1 10:1",  # out of order
            "cbhist 1 7 3969 1 10 10 10 10:0",       # empty bucket listed
            "cbhist 1 7 3969 1 10 10 10 10-1",       # no colon
            "cbhist 1 7 3969 1 10 10 10 99999:1",    # index out of range
            "cbhist 1 7 3969 1 -10 10 10 10:1",      # negative number
            "cbhist 1 7 3969 1 500 10 10 10:1",      # sum above count * max
        ]
        for text in bad:
            with self.assertRaises(ValueError, msg=text):
                histogram.parse(text)
        with self.assertRaises(ValueError):
            histogram.parse(None)


if __name__ == "__main__":
    unittest.main()
