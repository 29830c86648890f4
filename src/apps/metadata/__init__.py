"""The metadata app: emit, read, harvest, relay and serve metadata (`metadata --help`)."""
