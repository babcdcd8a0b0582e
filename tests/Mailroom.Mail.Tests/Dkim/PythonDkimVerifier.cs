using System.Diagnostics;

namespace Mailroom.Mail.Tests.Dkim;

/// <summary>
/// Runs Debian's dkimpy (python3-dkim) through <c>verify_dkim.py</c>: an implementation independent of
/// MimeKit, so a shared canonicalization bug cannot make a test pass. CI installs it; when it is missing the
/// tests fail with instructions rather than skip.
/// </summary>
static class PythonDkimVerifier
{
    const string Python = "/usr/bin/python3";

    static readonly Lazy<string?> missing = new(CheckInstalled);

    public sealed record Result(string Verdict, string Log)
    {
        public bool Passed => Verdict == "pass";
    }

    /// <summary>Verifies <paramref name="message"/> against the TXT value, answering only the query for <paramref name="dnsName"/>.</summary>
    public static Result Verify(byte[] message, string txtValue, string dnsName)
    {
        if (missing.Value is { } why)
            Assert.Fail(why);

        var script = Path.Combine(AppContext.BaseDirectory, "Dkim", "verify_dkim.py");
        Assert.True(File.Exists(script), $"{script} was not copied to the test output.");
        var start = new ProcessStartInfo(Python)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(script);
        start.ArgumentList.Add(txtValue);
        start.ArgumentList.Add(dnsName);

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        process.StandardInput.BaseStream.Write(message);
        process.StandardInput.Close();
        if (!process.WaitForExit(60_000))
        {
            process.Kill();
            Assert.Fail("verify_dkim.py did not finish within 60 s.");
        }
        var verdict = stdout.Result.Trim();
        Assert.True(process.ExitCode == 0 && verdict is "pass" or "fail", $"verify_dkim.py exited {process.ExitCode}: {verdict}\n{stderr.Result}");
        return new Result(verdict, stderr.Result);
    }

    static string? CheckInstalled()
    {
        const string help = "The independent DKIM verifier is missing: install Debian's python3-dkim (apt-get install -y python3-dkim) so that '/usr/bin/python3 -c \"import dkim\"' works.";
        if (!File.Exists(Python))
            return help + " (/usr/bin/python3 not found)";
        var start = new ProcessStartInfo(Python) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add("import dkim");
        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        return process.ExitCode == 0 ? null : help + "\n" + error;
    }
}
