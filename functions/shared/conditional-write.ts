import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';

/**
 * Sends a conditional DynamoDB write: true when it was made, false when its condition did not hold (a
 * concurrent writer got there first, or the item is not as expected). Any other error is thrown.
 */
export async function conditionHeld(write: () => Promise<unknown>): Promise<boolean> {
  try {
    await write();
    return true;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return false;
    throw error;
  }
}
