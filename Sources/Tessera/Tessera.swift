@_exported import TesseraTiles
