"""Icons, translations and the text corpus, shipped inside the package as `workbench._assets`
(see setup.py); each folder's README says where its files come from."""
