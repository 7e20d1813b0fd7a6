// Drives a running Rampart with the AWS SDK for JavaScript v3, as an application would:
// RAMPART_ENDPOINT, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_REGION say where and as
// whom. Each step checks what DynamoDB answers; the first difference is printed and the process
// exits with status 1. tests/e2e/test_sdk_js.py runs it.
import {
  BatchGetItemCommand, BatchWriteItemCommand, ConditionalCheckFailedException, CreateTableCommand,
  DeleteTableCommand, DynamoDBClient, GetItemCommand, PutItemCommand, QueryCommand,
  ResourceNotFoundException, ScanCommand, TransactionCanceledException, TransactWriteItemsCommand,
  UpdateItemCommand, paginateQuery, waitUntilTableExists,
} from "@aws-sdk/client-dynamodb";

import { check, clientOptions, main, rootCredentials, same } from "./lib.mjs";

const client = new DynamoDBClient(clientOptions(rootCredentials()));
const TableName = "SdkJsBooks";
const key = (a, t) => ({ Author: { S: a }, BookTitle: { S: t } });
const book = (a, t, y) => ({ ...key(a, t), Year: { N: y } });

async function run() {
  await client.send(new CreateTableCommand({
    TableName,
    AttributeDefinitions: [{ AttributeName: "Author", AttributeType: "S" }, { AttributeName: "BookTitle", AttributeType: "S" }],
    KeySchema: [{ AttributeName: "Author", KeyType: "HASH" }, { AttributeName: "BookTitle", KeyType: "RANGE" }],
    BillingMode: "PAY_PER_REQUEST",
  }));
  const waited = await waitUntilTableExists({ client, maxWaitTime: 30, minDelay: 1 }, { TableName });
  check(waited.state === "SUCCESS", "the waiter sees the table ACTIVE");

  for (const [a, t, y] of [["Acme", "Alpha", "1999"], ["Acme", "Beta", "2005"], ["Acme", "Gamma", "2011"], ["Zed", "Omega", "1970"]]) {
    await client.send(new PutItemCommand({ TableName, Item: book(a, t, y) }));
  }
  const got = await client.send(new GetItemCommand({ TableName, Key: key("Acme", "Beta"), ConsistentRead: true }));
  check(same(got.Item?.Year, { N: "2005" }), "GetItem returns the item");

  const precise = "0.1000000000000000000000000000000000001";
  await client.send(new UpdateItemCommand({
    TableName, Key: key("Acme", "Alpha"), UpdateExpression: "SET Price = :p",
    ExpressionAttributeValues: { ":p": { N: precise } },
  }));
  const priced = await client.send(new GetItemCommand({ TableName, Key: key("Acme", "Alpha"), ProjectionExpression: "Price" }));
  check(same(priced.Item, { Price: { N: precise } }), "a 38-digit number round-trips");

  const titles = [];
  for await (const page of paginateQuery({ client, pageSize: 1 }, {
    TableName, KeyConditionExpression: "Author = :a", ExpressionAttributeValues: { ":a": { S: "Acme" } },
  })) {
    for (const item of page.Items ?? []) titles.push(item.BookTitle.S);
  }
  check(same(titles, ["Alpha", "Beta", "Gamma"]), `Query pages through the partition in order (got ${titles})`);
  const back = await client.send(new QueryCommand({
    TableName, KeyConditionExpression: "Author = :a AND BookTitle > :t",
    ExpressionAttributeValues: { ":a": { S: "Acme" }, ":t": { S: "Alpha" } }, ScanIndexForward: false,
  }));
  check(back.Count === 2 && back.Items[0].BookTitle.S === "Gamma", "Query backwards with a sort-key condition");

  try {
    await client.send(new UpdateItemCommand({
      TableName, Key: key("Acme", "Beta"), UpdateExpression: "SET #y = :y", ConditionExpression: "#y = :old",
      ExpressionAttributeNames: { "#y": "Year" },
      ExpressionAttributeValues: { ":y": { N: "2006" }, ":old": { N: "1900" } },
      ReturnValuesOnConditionCheckFailure: "ALL_OLD",
    }));
    throw new Error("UpdateItem with a false condition succeeded");
  } catch (e) {
    check(e instanceof ConditionalCheckFailedException, `expected ConditionalCheckFailedException, got ${e.name}: ${e.message}`);
    check(e.$metadata.httpStatusCode === 400, "ConditionalCheckFailed is HTTP 400");
    check(same(e.Item?.Year, { N: "2005" }), "ConditionalCheckFailedException carries the old item");
  }
  const updated = await client.send(new UpdateItemCommand({
    TableName, Key: key("Acme", "Beta"), UpdateExpression: "ADD Copies :one",
    ExpressionAttributeValues: { ":one": { N: "1" } }, ReturnValues: "UPDATED_NEW",
  }));
  check(same(updated.Attributes, { Copies: { N: "1" } }), "UPDATED_NEW returns the added counter");

  try {
    await client.send(new TransactWriteItemsCommand({
      TransactItems: [
        { Put: { TableName, Item: book("Txn", "One", "2020") } },
        { ConditionCheck: { TableName, Key: key("Zed", "Omega"), ConditionExpression: "attribute_not_exists(Author)" } },
      ],
    }));
    throw new Error("a transaction with a false condition succeeded");
  } catch (e) {
    check(e instanceof TransactionCanceledException, `expected TransactionCanceledException, got ${e.name}: ${e.message}`);
    const codes = (e.CancellationReasons ?? []).map((r) => r.Code);
    check(same(codes, ["None", "ConditionalCheckFailed"]), `cancellation reasons (got ${codes})`);
  }
  const none = await client.send(new GetItemCommand({ TableName, Key: key("Txn", "One") }));
  check(none.Item === undefined, "a cancelled transaction writes nothing");

  const puts = Array.from({ length: 25 }, (_, i) => ({ PutRequest: { Item: book("Batch", `T${String(i).padStart(2, "0")}`, "2000") } }));
  const written = await client.send(new BatchWriteItemCommand({ RequestItems: { [TableName]: puts } }));
  check(Object.keys(written.UnprocessedItems ?? {}).length === 0, "BatchWriteItem processes every request");
  const keys = Array.from({ length: 25 }, (_, i) => key("Batch", `T${String(i).padStart(2, "0")}`));
  const fetched = await client.send(new BatchGetItemCommand({ RequestItems: { [TableName]: { Keys: keys } } }));
  check(fetched.Responses?.[TableName]?.length === 25, "BatchGetItem returns 25 items");

  const scanned = await client.send(new ScanCommand({
    TableName, FilterExpression: "#y < :y", ExpressionAttributeNames: { "#y": "Year" },
    ExpressionAttributeValues: { ":y": { N: "2000" } },
  }));
  check(scanned.Count === 2 && scanned.ScannedCount === 29, `Scan with a filter (count ${scanned.Count}, scanned ${scanned.ScannedCount})`);

  try {
    await client.send(new GetItemCommand({ TableName: "no-such-table", Key: key("a", "b") }));
    throw new Error("GetItem on a missing table succeeded");
  } catch (e) {
    check(e instanceof ResourceNotFoundException, `expected ResourceNotFoundException, got ${e.name}: ${e.message}`);
  }

  await client.send(new DeleteTableCommand({ TableName }));
}

await main(run);
