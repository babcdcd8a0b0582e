using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Mailroom.Contracts;

namespace Mailroom.Tests.Infrastructure;

/// <summary>What a finished process printed.</summary>
public sealed record ProcessResult(int ExitCode, string StandardOutput, string StandardError)
{
    public override string ToString() => $"exit code {ExitCode}\n--- stdout ---\n{StandardOutput}\n--- stderr ---\n{StandardError}";
}

/// <summary>
/// The real <c>mailroom</c> executable (the build output of src/Mailroom, run with <c>dotnet mailroom.dll</c>) as a
/// separate process: <c>serve</c> on a free loopback port with its own data folder and database (a fresh PostgreSQL
/// database when the suite runs on PostgreSQL), and one-shot commands (<c>accounts create</c>, <c>dns</c>) against
/// the same store. Used by the tests that drive Mailroom with the official Node client.
/// </summary>
public sealed class MailroomProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private MailroomProcess(Process process, string data, string? database, int port)
    {
        _process = process;
        DataDirectory = data;
        Database = database;
        Port = port;
    }

    public string DataDirectory { get; }
    public string? Database { get; }
    public int Port { get; }
    /// <summary>The server's process id (tests read its memory from /proc).</summary>
    public int ProcessId => _process.Id;
    /// <summary>"127.0.0.1:PORT": what the Node client takes as <c>requestHost</c>.</summary>
    public string Host => $"127.0.0.1:{Port}";
    public string BaseUrl => $"http://{Host}";

    /// <summary>Everything the server printed so far (for failure messages).</summary>
    public string Output
    {
        get { lock (_output) return _output.ToString(); }
    }

    /// <summary>The mailroom.dll built beside this test assembly's configuration (Debug or Release).</summary>
    public static string MailroomDll
    {
        get
        {
            var configuration = new DirectoryInfo(Path.TrimEndingDirectorySeparator(AppContext.BaseDirectory)).Parent!.Name; // bin/<config>/net10.0
            var dll = Path.Combine(TestPaths.RepoRoot, "src", "Mailroom", "bin", configuration, "net10.0", "mailroom.dll");
            return File.Exists(dll) ? dll : throw new FileNotFoundException("Build src/Mailroom first: not found", dll);
        }
    }

    /// <summary>Starts <c>mailroom serve</c> and waits until <c>GET /health</c> answers 200.</summary>
    public static Task<MailroomProcess> StartAsync(IEnumerable<string>? extraArgs = null, TimeSpan? timeout = null) =>
        StartAsync(extraArgs, timeout, previous: null);

    /// <summary>Starts <c>mailroom serve</c> on the given PostgreSQL database (which may not exist yet), with its own data
    /// folder: one node of several sharing that database.</summary>
    public static Task<MailroomProcess> StartNodeAsync(string database, IEnumerable<string>? extraArgs = null, TimeSpan? timeout = null) =>
        StartAsync(extraArgs, timeout, previous: null, database);

    /// <summary>Starts <c>mailroom serve</c> on an existing data folder with its SQLite store (e.g. one made by an older
    /// version), whatever database the suite runs on.</summary>
    public static Task<MailroomProcess> StartOnDataFolderAsync(string data, IEnumerable<string>? extraArgs = null, TimeSpan? timeout = null) =>
        StartAsync(extraArgs, timeout, previous: null, givenDatabase: null, givenData: data);

    /// <summary>Starts <c>mailroom serve</c> again on a killed server's data folder, database and port.</summary>
    public Task<MailroomProcess> RestartAsync(IEnumerable<string>? extraArgs = null, TimeSpan? timeout = null) =>
        StartAsync(extraArgs, timeout, previous: this);

    /// <summary><c>kill -9</c>: the process gets no chance to finish anything. The data folder stays.</summary>
    public async Task KillAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true); // SIGKILL on Linux
            await _process.WaitForExitAsync();
        }
        _killed = true;
    }

    private bool _killed;

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int SendSignal(int pid, int signal);

    /// <summary><c>kill -TERM</c> (what systemd and docker stop send): a graceful stop. Waits for the exit and returns
    /// its code. The data folder stays.</summary>
    public async Task<int> StopAsync(TimeSpan? timeout = null)
    {
        if (!_process.HasExited && SendSignal(_process.Id, 15) != 0)
            throw new InvalidOperationException($"kill -TERM {_process.Id} failed: errno {System.Runtime.InteropServices.Marshal.GetLastPInvokeError()}");
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(60));
        await _process.WaitForExitAsync(cts.Token);
        _killed = true;
        return _process.ExitCode;
    }

    private static async Task<MailroomProcess> StartAsync(IEnumerable<string>? extraArgs, TimeSpan? timeout, MailroomProcess? previous, string? givenDatabase = null,
        string? givenData = null)
    {
        var data = previous?.DataDirectory ?? givenData ?? TestPaths.NewTempDirectory("mailroom-proc");
        var database = givenData is not null ? null : givenDatabase ?? (previous is null ? await TestDatabase.CreateAsync() : previous.Database);
        var port = previous?.Port ?? FreeTcpPort();
        var args = new List<string> { "serve", "--data", data, "--http", $"http://127.0.0.1:{port}" };
        if (database is not null)
            args.AddRange(["--database", database]);
        args.AddRange(extraArgs ?? []);
        // Every process gets its own SMTP submission port: the default (127.0.0.1:2525) would collide between
        // tests running side by side.
        if (!args.Contains("--smtp"))
            args.AddRange(["--smtp", $"127.0.0.1:{FreeTcpPort()}"]);
        var process = new Process { StartInfo = StartInfo("dotnet", [MailroomDll, .. args], TestPaths.RepoRoot) };
        var server = new MailroomProcess(process, data, database, port);
        process.OutputDataReceived += (_, e) => server.Append(e.Data);
        process.ErrorDataReceived += (_, e) => server.Append(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await server.WaitForHealthAsync(timeout ?? TimeSpan.FromSeconds(90));
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
        return server;
    }

    /// <summary>Runs a <c>mailroom</c> command to its end against this server's data folder and database.</summary>
    public Task<ProcessResult> CommandAsync(params string[] args)
    {
        var all = new List<string>(args) { "--data", DataDirectory };
        if (Database is not null)
            all.AddRange(["--database", Database]);
        return RunAsync("dotnet", [MailroomDll, .. all]);
    }

    /// <summary>Creates an account with <c>mailroom accounts create --json</c>.</summary>
    public async Task<AccountCreated> CreateAccountAsync(string name = "Acme", string email = "ops@acme.test")
    {
        var result = await CommandAsync("accounts", "create", "--name", name, "--email", email, "--json");
        if (result.ExitCode != 0)
            throw new InvalidOperationException("mailroom accounts create failed: " + result);
        return JsonSerializer.Deserialize<AccountCreated>(result.StandardOutput.Trim())
            ?? throw new InvalidOperationException("No JSON from accounts create: " + result);
    }

    /// <summary>Runs any program to its end (bounded by <paramref name="timeout"/>, then killed).</summary>
    public static async Task<ProcessResult> RunAsync(string fileName, IEnumerable<string> args, string? workingDirectory = null,
        IReadOnlyDictionary<string, string>? environment = null, TimeSpan? timeout = null)
    {
        using var process = new Process { StartInfo = StartInfo(fileName, args, workingDirectory ?? TestPaths.RepoRoot) };
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
            process.StartInfo.Environment[key] = value;
        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (stdout) stdout.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (stderr) stderr.AppendLine(e.Data); };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromMinutes(3));
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            lock (stderr) stderr.AppendLine($"(killed after {(timeout ?? TimeSpan.FromMinutes(3)).TotalSeconds} s)");
        }
        process.WaitForExit(); // drains the redirected streams
        lock (stdout) lock (stderr) return new ProcessResult(process.ExitCode, stdout.ToString(), stderr.ToString());
    }

    private static ProcessStartInfo StartInfo(string fileName, IEnumerable<string> args, string workingDirectory)
    {
        var info = new ProcessStartInfo(fileName)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in args)
            info.ArgumentList.Add(a);
        // The child must not pick up a developer's settings: only what the test passes.
        foreach (var key in info.Environment.Keys.Where(k => k.StartsWith("MAILROOM_", StringComparison.Ordinal)).ToList())
            info.Environment.Remove(key);
        info.Environment["DOTNET_NOLOGO"] = "1";
        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        return info;
    }

    private async Task WaitForHealthAsync(TimeSpan timeout)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var until = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < until)
        {
            if (_process.HasExited)
                throw new InvalidOperationException($"mailroom serve exited with code {_process.ExitCode}:\n{Output}");
            try
            {
                var res = await http.GetAsync(BaseUrl + "/health");
                if (res.StatusCode == HttpStatusCode.OK)
                    return;
            }
            catch (HttpRequestException) { }
            catch (TaskCanceledException) { }
            await Task.Delay(100);
        }
        throw new TimeoutException($"mailroom serve did not become healthy within {timeout.TotalSeconds} s:\n{Output}");
    }

    private void Append(string? line)
    {
        if (line is null)
            return;
        lock (_output)
            _output.AppendLine(line);
    }

    private static int FreeTcpPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
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
        catch (InvalidOperationException) { /* never started or already gone */ }
        _process.Dispose();
        if (_killed)
            return; // a restarted server owns the data folder now
        try { Directory.Delete(DataDirectory, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
