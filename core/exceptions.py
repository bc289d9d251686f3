"""The one domain error type services raise for rule violations."""


class DomainError(Exception):
    """A request that is well-formed but breaks a rule (slot taken, consent missing...).

    `conflict` marks a clash with the current state (HTTP 409); otherwise it is refused (400).
    `errors` maps field names to messages where the rule concerns particular fields.
    """

    def __init__(self, message: str, *, errors: dict[str, list[str]] | None = None, conflict: bool = False):
        super().__init__(message)
        self.message = message
        self.errors = errors or {}
        self.conflict = conflict
