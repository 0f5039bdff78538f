namespace Incrt.SarsCov2;

/// <summary>A user error (bad option combination, unusable data): printed without a stack trace, exit code 2.</summary>
public sealed class UsageException(string message) : Exception(message);
