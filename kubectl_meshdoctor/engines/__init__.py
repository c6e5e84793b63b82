"""Policy semantics: (Model, query) -> decision + the objects that decided it. Pure."""
