using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Mailroom.Core.Storage.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class ReplayCommitOrder : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_webhook_events_ServerId_Id",
                table: "webhook_events");

            // Rows already there get 0 (they were written before replay read by transaction: they come first, in Id
            // order), through a constant default, which PostgreSQL stores once instead of rewriting the table as the
            // volatile pg_current_xact_id() would; new rows get the transaction that writes them.
            migrationBuilder.Sql("""ALTER TABLE webhook_events ADD COLUMN "TxId" xid8 NOT NULL DEFAULT '0'""");
            migrationBuilder.Sql("""ALTER TABLE webhook_events ALTER COLUMN "TxId" SET DEFAULT pg_current_xact_id()""");

            migrationBuilder.CreateIndex(
                name: "IX_webhook_events_ServerId_TxId_Id",
                table: "webhook_events",
                columns: new[] { "ServerId", "TxId", "Id" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_webhook_events_ServerId_TxId_Id",
                table: "webhook_events");

            migrationBuilder.DropColumn(
                name: "TxId",
                table: "webhook_events");

            migrationBuilder.CreateIndex(
                name: "IX_webhook_events_ServerId_Id",
                table: "webhook_events",
                columns: new[] { "ServerId", "Id" });
        }
    }
}
