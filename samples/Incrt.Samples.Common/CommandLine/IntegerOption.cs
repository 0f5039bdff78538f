using System.CommandLine;
using System.Globalization;

namespace Incrt.Samples.Common;

/// <summary>Integer options with a lower bound, checked while parsing so a bad value is one clear error naming the
/// option (a validator on a plain <c>Option&lt;int&gt;</c> would also run after a failed conversion and throw).</summary>
public static class IntegerOption
{
    /// <summary>An optional integer of at least <paramref name="minimum"/>; null when the option is absent.</summary>
    /// <param name="name">Option name, e.g. <c>--epochs</c>.</param>
    /// <param name="description">Help text.</param>
    /// <param name="minimum">Smallest accepted value.</param>
    public static Option<int?> AtLeast(string name, string description, int minimum) => new(name)
    {
        Description = description,
        HelpName = "n",
        CustomParser = result =>
        {
            var token = result.Tokens.Count == 1 ? result.Tokens[0].Value : "";
            if (int.TryParse(token, NumberStyles.Integer, CultureInfo.InvariantCulture, out int value) && value >= minimum) return value;
            result.AddError($"{name} must be an integer ≥ {minimum}; got '{token}'.");
            return null;
        },
    };
}
