"""Budget knowledge as data: templates, vocabulary, code lists, and the engine that applies them."""
