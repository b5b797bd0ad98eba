//! One module per resource family. Filled in by the models work.
