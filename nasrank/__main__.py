import sys

from nasrank.cli import main

sys.exit(main())
