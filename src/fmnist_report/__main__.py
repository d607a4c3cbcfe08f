"""`python -m fmnist_report`: the command line where the `fmnist-report` script is not on PATH."""

from fmnist_report.cli import main

if __name__ == "__main__":
    main()
