// The baseline of make bench's cold-invoke row: a Node.js 20 Lambda-style handler doing what
// `crud-api invoke` does for GET /items/{id}, with the AWS SDK v3: one GetItem on the table's
// layout (CONTRACT §4), answered as an API Gateway proxy response. Run once per process, as a
// cold start is: node get_item.mjs EVENT_FILE (DYNAMODB_ENDPOINT, TABLE_NAME, AWS_* from env).
import { readFileSync } from "node:fs";
import { DynamoDBClient, GetItemCommand } from "@aws-sdk/client-dynamodb";

const client = new DynamoDBClient({
  endpoint: process.env.DYNAMODB_ENDPOINT,
  region: process.env.AWS_REGION ?? "us-east-1",
});

export async function handler(event) {
  const id = event.pathParameters?.id ?? event.rawPath.split("/").pop();
  const out = await client.send(new GetItemCommand({
    TableName: process.env.TABLE_NAME ?? "items",
    Key: { pk: { S: "OWNER#public" }, sk: { S: `ITEM#${id}` } },
  }));
  const item = out.Item;
  if (!item || item.deletedAt) {
    return { statusCode: 404, headers: { "Content-Type": "application/json; charset=utf-8" },
             body: JSON.stringify({ statusCode: 404, message: "Item not found" }) };
  }
  const data = {
    id: item.id.S, name: item.name.S, description: item.description?.S ?? "",
    createdAt: item.createdAt.S, updatedAt: item.updatedAt.S, version: Number(item.version.N),
  };
  return { statusCode: 200, headers: { "Content-Type": "application/json; charset=utf-8" },
           body: JSON.stringify({ statusCode: 200, data }) };
}

const event = JSON.parse(readFileSync(process.argv[2], "utf8"));
process.stdout.write(JSON.stringify(await handler(event)) + "\n");
