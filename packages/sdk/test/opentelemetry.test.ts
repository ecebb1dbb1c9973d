import type {
  Attributes,
  AttributeValue,
  Exception,
  Link,
  Span,
  SpanContext,
  SpanStatus,
  TimeInput,
} from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { FeatureFlags, recordFeatureFlagEvaluation, recordFeatureFlagEvaluations } from '../src/index.js';

/** A minimal implementation of @opentelemetry/api's Span that keeps its events. */
class RecordingSpan implements Span {
  readonly events: { name: string; attributes: Attributes | undefined }[] = [];
  readonly attributes: Attributes = {};
  spanContext(): SpanContext {
    return { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: 1 };
  }
  setAttribute(key: string, value: AttributeValue): this {
    this.attributes[key] = value;
    return this;
  }
  setAttributes(attributes: Attributes): this {
    Object.assign(this.attributes, attributes);
    return this;
  }
  addEvent(name: string, attributesOrStartTime?: Attributes | TimeInput, _startTime?: TimeInput): this {
    const attributes =
      typeof attributesOrStartTime === 'object' &&
      !Array.isArray(attributesOrStartTime) &&
      !(attributesOrStartTime instanceof Date)
        ? (attributesOrStartTime as Attributes)
        : undefined;
    this.events.push({ name, attributes });
    return this;
  }
  addLink(_link: Link): this {
    return this;
  }
  addLinks(_links: Link[]): this {
    return this;
  }
  setStatus(_status: SpanStatus): this {
    return this;
  }
  updateName(_name: string): this {
    return this;
  }
  end(_endTime?: TimeInput): void {}
  isRecording(): boolean {
    return true;
  }
  recordException(_exception: Exception, _time?: TimeInput): void {}
}

describe('OpenTelemetry: feature_flag.evaluation events after the semantic conventions', () => {
  it('records one event per decision of the request on a real Span type', () => {
    const span = new RecordingSpan();
    const flags = new FeatureFlags({ new_ui: { enabled: 0.5 }, search: { enabled: 0 } }, { sessionId: '000' });
    flags.isEnabled('new_ui');
    flags.isEnabled('search');
    recordFeatureFlagEvaluations(span, flags);
    expect(span.events).toEqual([
      {
        name: 'feature_flag.evaluation',
        attributes: {
          'feature_flag.key': 'new_ui',
          'feature_flag.result.value': true,
          'feature_flag.result.variant': 'on',
          'feature_flag.provider.name': 'Vexil',
        },
      },
      {
        name: 'feature_flag.evaluation',
        attributes: {
          'feature_flag.key': 'search',
          'feature_flag.result.value': false,
          'feature_flag.result.variant': 'off',
          'feature_flag.provider.name': 'Vexil',
        },
      },
    ]);
  });

  it('records each check as it happens through the onDecision hook', () => {
    const span = new RecordingSpan();
    const flags = new FeatureFlags(
      { coin: { enabled: 0.5, scheme: 'random' } },
      {
        onDecision: (name, decision) =>
          recordFeatureFlagEvaluation(span, name, decision, { providerName: 'merino-files' }),
      },
    );
    const first = flags.isEnabled('coin');
    flags.isEnabled('coin');
    expect(span.events).toHaveLength(1);
    expect(span.events[0]?.attributes).toMatchObject({
      'feature_flag.key': 'coin',
      'feature_flag.result.value': first,
      'feature_flag.provider.name': 'merino-files',
    });
  });
});
