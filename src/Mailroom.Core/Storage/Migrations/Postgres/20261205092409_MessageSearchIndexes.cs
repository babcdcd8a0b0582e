using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Mailroom.Core.Storage.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class MessageSearchIndexes : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateIndex(
                name: "IX_suppressions_ServerId_Email",
                table: "suppressions",
                columns: new[] { "ServerId", "Email" });

            migrationBuilder.CreateIndex(
                name: "IX_bounces_ServerId_Type",
                table: "bounces",
                columns: new[] { "ServerId", "Type" });

            // The Messages API's substring filters (recipient, fromemail, subject; MessageLog.Candidates) ask ILIKE
            // '%term%' of the raw columns: pg_trgm's GIN indexes answer it. pg_trgm is a trusted extension (PostgreSQL
            // 13+): the database owner may create it without superuser rights.
            migrationBuilder.Sql("CREATE EXTENSION IF NOT EXISTS pg_trgm;");
            migrationBuilder.Sql("""CREATE INDEX "IX_outbound_messages_RecipientsJson_trgm" ON outbound_messages USING gin ("RecipientsJson" gin_trgm_ops);""");
            migrationBuilder.Sql("""CREATE INDEX "IX_outbound_messages_From_trgm" ON outbound_messages USING gin ("From" gin_trgm_ops);""");
            migrationBuilder.Sql("""CREATE INDEX "IX_outbound_messages_Subject_trgm" ON outbound_messages USING gin ("Subject" gin_trgm_ops);""");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("""DROP INDEX "IX_outbound_messages_RecipientsJson_trgm";""");
            migrationBuilder.Sql("""DROP INDEX "IX_outbound_messages_From_trgm";""");
            migrationBuilder.Sql("""DROP INDEX "IX_outbound_messages_Subject_trgm";""");

            migrationBuilder.DropIndex(
                name: "IX_suppressions_ServerId_Email",
                table: "suppressions");

            migrationBuilder.DropIndex(
                name: "IX_bounces_ServerId_Type",
                table: "bounces");
        }
    }
}
