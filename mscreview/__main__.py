"""Allow ``python -m mscreview``."""

from mscreview.cli import main

main()
