"""``python -m lucid_cli``: the same as the ``lucid`` console script."""

from lucid_cli.app import main

if __name__ == "__main__":
    main()
