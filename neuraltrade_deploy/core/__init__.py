"""The pure core: decides, never acts."""
