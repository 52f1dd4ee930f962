/// graft's version, shown by `graft --version` and written into every session header.
public let graftVersion = "0.3.2"
