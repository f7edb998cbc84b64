// Placeholder so the package builds on the transport branch; the command line (serve,
// export, check-config, load) lands from its own branch.
print("stelling: the command line is not built yet")
