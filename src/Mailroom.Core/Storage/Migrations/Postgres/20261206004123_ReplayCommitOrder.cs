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

            migrationBuilder.AddColumn<ulong>(
                name: "TxId",
                table: "webhook_events",
                type: "xid8",
                nullable: false,
                defaultValueSql: "pg_current_xact_id()");

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
