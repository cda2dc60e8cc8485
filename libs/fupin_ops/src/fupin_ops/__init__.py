"""Operator tools that ship in every component image (deploy/README.md "Images"): `fupin-dlq`."""
