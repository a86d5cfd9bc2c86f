import { Stack, Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/**
 * Acknowledges one cdk-nag finding on one construct (and the resources inside it) with the reason a reviewer
 * reads. `finding` is the full finding id: `AwsSolutions-SMG4`, or, for a rule that reports one finding per
 * permission, `AwsSolutions-IAM5[Resource::<Uploads4F6EB0FD.Arn>/incoming/*]`. This is CDK's own
 * acknowledgement (cdk-nag 3 reads it), so the app needs cdk-nag only where the packs run: in the tests.
 */
export function acknowledge(scope: IConstruct, finding: string, reason: string): void {
  Validations.of(scope).acknowledge({ id: finding, reason });
}

/**
 * The AwsSolutions-IAM5 finding id cdk-nag reports for an IAM resource with a `*` in it, or undefined when
 * the resource has none. cdk-nag names a resource by flattening its CloudFormation references: `Fn::GetAtt`
 * becomes `<LogicalId.Attribute>`, `Ref` becomes `<LogicalId>`, joins are joined.
 */
export function wildcardResourceFinding(scope: IConstruct, resource: string): string | undefined {
  const flattened = flattenReference(Stack.of(scope).resolve(resource));
  return flattened.includes('*') ? `AwsSolutions-IAM5[Resource::${flattened}]` : undefined;
}

/** The same flattening as cdk-nag's own `flattenCfnReference` (the nag test proves the two agree). */
function flattenReference(node: unknown): string {
  if (node === undefined) return '';
  if (typeof node === 'string') return node.replace(/\$\{/g, '<').replace(/\}/g, '>');
  if (typeof node === 'object' && node !== null) {
    const intrinsic = node as Record<string, unknown>;
    if (Array.isArray(intrinsic['Fn::Join'])) {
      const [delimiter, items] = intrinsic['Fn::Join'] as [string, unknown[]];
      return items.map(flattenReference).join(delimiter);
    }
    if (intrinsic['Fn::Sub'] !== undefined) return flattenReference(intrinsic['Fn::Sub']);
    if (Array.isArray(intrinsic['Fn::GetAtt'])) {
      const [resource, attribute] = intrinsic['Fn::GetAtt'] as [unknown, unknown];
      return `<${flattenReference(resource)}.${flattenReference(attribute)}>`;
    }
    if (intrinsic['Fn::ImportValue'] !== undefined) return flattenReference(intrinsic['Fn::ImportValue']);
    if (intrinsic.Ref !== undefined) return `<${flattenReference(intrinsic.Ref)}>`;
  }
  return JSON.stringify(node);
}
