"""Steward's code. Its first import pauses the garbage collector for an on-demand cold start
(chalicelib/collector.py); app.py resumes it once the first event is answered."""

from chalicelib import collector

collector.pause_for_cold_start()
