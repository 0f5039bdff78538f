using System.CommandLine;
using System.Globalization;

namespace Incrt.Samples.Common;

/// <summary>
/// Options taking a list of values, written comma-separated (<c>--k 1,2,4</c>), space-separated (<c>--k 1 2 4</c>) or
/// repeated (<c>--k 1 --k 2</c>). A bad element is a parse error naming the option and the expected values.
/// </summary>
public static class ListOption
{
    /// <summary>Parses one list element; false when it is not valid.</summary>
    public delegate bool ElementParser<T>(string text, out T value);

    /// <summary>A list of integers, each at least <paramref name="minimum"/>.</summary>
    public static Option<int[]> Integers(string name, string description, int minimum = int.MinValue) =>
        Create<int>(name, description, "n[,n…]",
            (string t, out int v) => int.TryParse(t, NumberStyles.Integer, CultureInfo.InvariantCulture, out v) && v >= minimum,
            minimum == int.MinValue ? "a comma-separated list of integers" : $"a comma-separated list of integers ≥ {minimum}");

    /// <summary>A list of numbers in [<paramref name="minimum"/>, <paramref name="maximum"/>] (invariant culture: "0.1").</summary>
    public static Option<double[]> Numbers(string name, string description, double minimum, double maximum) =>
        Create<double>(name, description, "x[,x…]",
            (string t, out double v) => double.TryParse(t, NumberStyles.Float, CultureInfo.InvariantCulture, out v) && v >= minimum && v <= maximum,
            string.Create(CultureInfo.InvariantCulture, $"a comma-separated list of numbers in [{minimum}, {maximum}]"));

    /// <summary>A list of names from <paramref name="allowed"/> (exact, case-sensitive).</summary>
    public static Option<string[]> Names(string name, string description, IReadOnlyList<string> allowed)
    {
        ArgumentNullException.ThrowIfNull(allowed);
        return Create<string>(name, description, string.Join('|', allowed) + "[,…]",
            (string t, out string v) => allowed.Contains(v = t, StringComparer.Ordinal),
            "a comma-separated list of " + string.Join(", ", allowed));
    }

    /// <summary>A list option whose elements <paramref name="parse"/> reads; <paramref name="expectation"/> completes
    /// the error message "NAME takes EXPECTATION; got 'TOKEN'.".</summary>
    public static Option<T[]> Create<T>(string name, string description, string helpName, ElementParser<T> parse, string expectation)
    {
        ArgumentNullException.ThrowIfNull(parse);
        return new Option<T[]>(name)
        {
            Description = description,
            HelpName = helpName,
            Arity = ArgumentArity.OneOrMore,
            AllowMultipleArgumentsPerToken = true,
            CustomParser = result =>
            {
                var values = new List<T>();
                foreach (var token in result.Tokens)
                {
                    foreach (var part in token.Value.Split(','))
                    {
                        if (!parse(part.Trim(), out var value))
                        {
                            result.AddError($"{name} takes {expectation}; got '{token.Value}'.");
                            return [];
                        }
                        values.Add(value);
                    }
                }
                return values.ToArray();
            },
        };
    }
}
