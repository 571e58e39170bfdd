"""Development entry point; installed copies use the ``catalog-manage`` command."""

from catalog_site.manage import main

if __name__ == "__main__":
    main()
