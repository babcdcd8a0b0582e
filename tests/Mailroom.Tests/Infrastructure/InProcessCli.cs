using System.CommandLine;
using Mailroom.Cli;

namespace Mailroom.Tests.Infrastructure;

/// <summary>The <c>mailroom</c> command line run in this process, as the executable parses and runs it, with its
/// output and error text captured.</summary>
public static class InProcessCli
{
    public static async Task<(int Exit, string Output, string Error)> InvokeAsync(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var exit = await MailroomCommandLine.Build().Parse(args)
            .InvokeAsync(new InvocationConfiguration { Output = output, Error = error }, TestContext.Current.CancellationToken);
        return (exit, output.ToString(), error.ToString());
    }
}
