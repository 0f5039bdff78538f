using System.Text;
using Spectre.Console;

namespace Incrt.Samples.Common;

/// <summary>
/// A <see cref="TextWriter"/> that hands complete lines to an <see cref="IAnsiConsole"/>, so a sample's ordinary
/// report lines go through the same console as the live progress bar (printed above it, never into it).
/// </summary>
internal sealed class ConsoleLineWriter(IAnsiConsole console) : TextWriter
{
    private readonly StringBuilder _line = new();

    public override Encoding Encoding => Encoding.UTF8;

    public override void Write(char value)
    {
        if (value == '\n')
        {
            EmitLine();
        }
        else if (value != '\r')
        {
            _line.Append(value);
        }
    }

    public override void Write(string? value)
    {
        if (value is null) return;
        foreach (var c in value) Write(c);
    }

    public override void WriteLine(string? value)
    {
        _line.Append(value);
        EmitLine();
    }

    public override void Flush()
    {
        if (_line.Length > 0) EmitLine();
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) Flush();
        base.Dispose(disposing);
    }

    private void EmitLine()
    {
        // Text, not markup: report lines contain brackets ("heads [3]").
        console.WriteLine(_line.ToString());
        _line.Clear();
    }
}
