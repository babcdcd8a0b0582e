using System.Diagnostics;
using System.Net.Sockets;

namespace Mailroom.Tests.Infrastructure;

/// <summary>A real SpamAssassin <c>spamd</c> (Debian's spamd package, with spamassassin; scripts/test-deps.sh installs them) on a free
/// loopback port, with local rules only (no network tests), for the tests of inbound spam scoring.</summary>
public sealed class SpamdProcess : IAsyncDisposable
{
    private readonly Process _process;
    public int Port { get; }
    public string Address => $"127.0.0.1:{Port}";

    private SpamdProcess(Process process, int port) => (_process, Port) = (process, port);

    public static async Task<SpamdProcess> StartAsync()
    {
        const string spamd = "/usr/sbin/spamd";
        if (!File.Exists(spamd))
            throw new InvalidOperationException("spamd is needed (apt-get install spamassassin spamd; scripts/test-deps.sh does).");
        var port = SmtpSink.FreeTcpPort();
        var info = new ProcessStartInfo(spamd)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in new[] { "--listen-ip=127.0.0.1", $"--port={port}", "--local", "--max-children=2", "--syslog=stderr",
                     $"--pidfile={Path.Combine(Path.GetTempPath(), $"spamd-{port}.pid")}" })
            info.ArgumentList.Add(a);
        if (Environment.UserName == "root")
            info.ArgumentList.Add("--username=nobody"); // spamd refuses to run its children as root
        var process = Process.Start(info)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var server = new SpamdProcess(process, port);
        var until = DateTime.UtcNow.AddSeconds(90); // loading the rules takes a few seconds, more on a busy machine
        while (DateTime.UtcNow < until)
        {
            if (process.HasExited)
                throw new InvalidOperationException($"spamd exited with code {process.ExitCode}.");
            try
            {
                using var probe = new TcpClient();
                await probe.ConnectAsync(IPAddress.Loopback, port);
                return server;
            }
            catch (SocketException)
            {
                await Task.Delay(200);
            }
        }
        await server.DisposeAsync();
        throw new TimeoutException("spamd did not listen within 90 s.");
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync();
            }
        }
        catch (InvalidOperationException) { }
        _process.Dispose();
    }
}
