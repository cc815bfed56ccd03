"""Pure building blocks: bucket arithmetic, value types, window planning, alignment. No I/O, no clock."""
