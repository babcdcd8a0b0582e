using Mailroom.Cli;

return await MailroomCommandLine.Build().Parse(args).InvokeAsync();
