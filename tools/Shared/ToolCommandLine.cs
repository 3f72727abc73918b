using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Parsing;
using System.Globalization;

namespace Coherence.Tools;

/// <summary>
/// The command-line conventions shared by the tools and the benchmarks (compiled into each of them from
/// tools/Shared): System.CommandLine parses; every value is checked by a parser that names the option, the bad
/// value and what is valid ("option --dim: 'x' is not an integer >= 1."); response files (@file) are off, so a
/// path that starts with @ stays a path; errors exit with <see cref="UsageExitCode"/>.
/// </summary>
internal static class ToolCommandLine
{
    /// <summary>The exit code of a usage error: a bad or missing option or argument.</summary>
    public const int UsageExitCode = 2;

    // One value per occurrence (--dim 3 4 leaves 4 unmatched), and an option given twice keeps its last value, as
    // "--seeds 3 ... --seeds 5" does in a script that appends the user's options to its own.
    private static readonly ArgumentArity LastWins = new(1, 100);

    /// <summary>Parses a text into a value; returns false when the text is not a valid value.</summary>
    public delegate bool TryParse<T>(string text, out T value);

    /// <summary>Parses <paramref name="args"/> against <paramref name="command"/> (response files off).</summary>
    public static ParseResult Parse(Command command, IReadOnlyList<string> args) =>
        command.Parse(args, new ParserConfiguration { ResponseFileTokenReplacer = null });

    /// <summary>True when the user asked for help (-h, --help, -?); <see cref="ParseResult.Invoke"/> prints it.</summary>
    public static bool IsHelp(ParseResult result) => result.Action is HelpAction;

    /// <summary>
    /// The first usage error of <paramref name="result"/> in the tools' wording, or null when there is none.
    /// An unknown option lists the command's options when there are at most ten, and points to --help otherwise.
    /// </summary>
    public static string? FirstError(ParseResult result)
    {
        if (result.UnmatchedTokens.Count > 0)
        {
            string token = result.UnmatchedTokens[0];
            if (!token.StartsWith('-'))
            {
                return $"unexpected argument '{token}'.";
            }

            var options = result.CommandResult.Command.Options.Where(o => !o.Hidden && o is not HelpOption && o is not VersionOption).ToList();
            return options.Count <= 10
                ? $"unknown option {token}; valid: {string.Join(", ", options.Select(o => o.Name))}."
                : $"unknown option {token} (see --help for the valid options).";
        }

        if (result.Errors.Count == 0)
        {
            return null;
        }

        var error = result.Errors[0];
        if (error.SymbolResult is OptionResult option && option.Tokens.Count == 0 && !option.Implicit)
        {
            return $"option {option.Option.Name} needs a value.";
        }

        return error.Message;
    }

    /// <summary>Writes "error: MESSAGE" and the hint to --help to standard error; returns <see cref="UsageExitCode"/>.</summary>
    public static int ReportUsageError(string message, string commandLine)
    {
        Console.Error.WriteLine($"error: {message}");
        Console.Error.WriteLine($"Run '{commandLine} --help' for the options.");
        return UsageExitCode;
    }

    /// <summary>
    /// Parses and runs a tool whose whole work is <paramref name="run"/>: prints help and returns 0 when asked,
    /// reports a usage error and returns <see cref="UsageExitCode"/>, otherwise returns what <paramref name="run"/> returns.
    /// </summary>
    public static int Run(RootCommand command, string[] args, Func<ParseResult, int> run)
    {
        var result = Parse(command, args);
        if (IsHelp(result))
        {
            return result.Invoke();
        }

        string? error = FirstError(result);
        return error is null ? run(result) : ReportUsageError(error, command.Name);
    }

    /// <summary>An option whose value <paramref name="parse"/> checks; a bad value reads "option NAME: 'TEXT' is not EXPECTED.".</summary>
    public static Option<T> Checked<T>(string name, string description, TryParse<T> parse, string expected, Func<T>? defaultValue = null)
    {
        var option = new Option<T>(name) { Description = description, Arity = LastWins };
        option.CustomParser = r => ParseToken(r, $"option {name}", parse, expected);
        if (defaultValue is not null)
        {
            option.DefaultValueFactory = _ => defaultValue();
        }

        return option;
    }

    /// <summary>
    /// An option whose value <paramref name="convert"/> makes; it throws <see cref="FormatException"/> with the whole
    /// message (naming the option and what is valid) for a bad value.
    /// </summary>
    public static Option<T> Converted<T>(string name, string description, Func<string, T> convert, Func<T>? defaultValue = null)
    {
        var option = new Option<T>(name) { Description = description, Arity = LastWins };
        option.CustomParser = r =>
        {
            if (r.Tokens.Count == 0)
            {
                r.AddError($"option {name} needs a value.");
                return default!;
            }

            try
            {
                return convert(r.Tokens[^1].Value);
            }
            catch (FormatException e)
            {
                r.AddError(e.Message);
                return default!;
            }
        };
        if (defaultValue is not null)
        {
            option.DefaultValueFactory = _ => defaultValue();
        }

        return option;
    }

    /// <summary>A positional argument whose value <paramref name="parse"/> checks; a bad value reads "argument NAME: 'TEXT' is not EXPECTED.".</summary>
    public static Argument<T> CheckedArgument<T>(string name, string description, TryParse<T> parse, string expected, Func<T>? defaultValue = null)
    {
        var argument = new Argument<T>(name) { Description = description };
        argument.CustomParser = r => ParseToken(r, $"argument {name}", parse, expected);
        if (defaultValue is not null)
        {
            argument.Arity = ArgumentArity.ZeroOrOne;
            argument.DefaultValueFactory = _ => defaultValue();
        }

        return argument;
    }

    /// <summary>An integer option with a lower bound.</summary>
    public static Option<int> Int(string name, string description, int defaultValue, int min) =>
        Checked(name, description, IntAtLeast(min), $"an integer >= {min}", () => defaultValue);

    /// <summary>An integer option with a lower bound and no default (null when not given).</summary>
    public static Option<int?> OptionalInt(string name, string description, int min) =>
        Checked<int?>(name, description, (string text, out int? value) =>
        {
            bool ok = IntAtLeast(min)(text, out int v);
            value = ok ? v : null;
            return ok;
        }, $"an integer >= {min}");

    /// <summary>A text option (any value: a path, a name) with a default.</summary>
    public static Option<string> Text(string name, string description, string defaultValue) =>
        Checked(name, description, (string text, out string value) =>
        {
            value = text;
            return true;
        }, "a value", () => defaultValue);

    /// <summary>A text option (any value: a path, a name) that is null when not given.</summary>
    public static Option<string?> OptionalText(string name, string description) =>
        Checked(name, description, (string text, out string? value) =>
        {
            value = text;
            return true;
        }, "a value");

    /// <summary>A flag: present or not, it takes no value (so the next token is never read as its value).</summary>
    public static Option<bool> Flag(string name, string description) =>
        new(name) { Description = description, Arity = ArgumentArity.Zero };

    /// <summary>
    /// A boolean option that takes an explicit true or false (bool.Parse's spellings). Its value is text: an
    /// Option&lt;bool&gt; would take only a literal true/false after it and read "--sca maybe" as --sca plus a stray argument.
    /// </summary>
    public static Option<string> Boolean(string name, string description, bool defaultValue)
    {
        var option = Checked(name, description, (string text, out string value) =>
        {
            value = text;
            return bool.TryParse(text, out _);
        }, "true or false", () => defaultValue ? "true" : "false");
        option.HelpName = "true|false";
        return option;
    }

    /// <summary>The value of a <see cref="Boolean"/> option.</summary>
    public static bool GetBoolean(ParseResult result, Option<string> option) => bool.Parse(result.GetValue(option)!);

    /// <summary>Accepts invariant-culture integers of at least <paramref name="min"/>.</summary>
    public static TryParse<int> IntAtLeast(int min) => (string text, out int value) =>
        int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out value) && value >= min;

    /// <summary>Accepts finite invariant-culture numbers for which <paramref name="valid"/> holds.</summary>
    public static TryParse<float> FloatWhere(Func<float, bool> valid) => (string text, out float value) =>
        float.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out value) && float.IsFinite(value) && valid(value);

    /// <summary>Accepts finite invariant-culture numbers for which <paramref name="valid"/> holds.</summary>
    public static TryParse<double> DoubleWhere(Func<double, bool> valid) => (string text, out double value) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out value) && double.IsFinite(value) && valid(value);

    /// <summary>Accepts a comma-separated list (entries trimmed, empty ones dropped) whose every entry <paramref name="item"/> accepts.</summary>
    public static TryParse<T[]> ListOf<T>(TryParse<T> item) => (string text, out T[] value) =>
    {
        var parts = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        value = new T[parts.Length];
        for (int i = 0; i < parts.Length; i++)
        {
            if (!item(parts[i], out value[i]))
            {
                return false;
            }
        }

        return parts.Length > 0;
    };

    /// <summary>Accepts exactly one of <paramref name="choices"/> (ordinal).</summary>
    public static TryParse<string> OneOf(params string[] choices) => (string text, out string value) =>
    {
        value = text;
        return choices.Contains(text, StringComparer.Ordinal);
    };

    private static T ParseToken<T>(ArgumentResult result, string what, TryParse<T> parse, string expected)
    {
        if (result.Tokens.Count == 0)
        {
            result.AddError($"{what} needs a value.");
            return default!;
        }

        string text = result.Tokens[^1].Value;
        if (parse(text, out var value))
        {
            return value;
        }

        result.AddError($"{what}: '{text}' is not {expected}.");
        return default!;
    }
}
