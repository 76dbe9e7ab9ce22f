// Event columns, as Kubernetes' printEvent computes them: LAST SEEN TYPE REASON OBJECT MESSAGE,
// and SUBOBJECT SOURCE FIRST SEEN COUNT NAME with -o wide (so kubectl's default table of events
// has no NAME column; Kubernetes still marks the wide NAME column with format "name").
// - FIRST SEEN is the age of firstTimestamp, else of eventTime; LAST SEEN the age of
//   lastTimestamp, else FIRST SEEN; for an event in a series, the age of the series' last
//   observation, and COUNT is the series' count (otherwise count, at least 1).
// - OBJECT is "<kind in lower case>/<name>" of the involved object.
// - SOURCE is "component, host", falling back to reportingComponent / reportingInstance.
import type { ColumnDefinition, PrinterColumns } from './columns';
import { column, NAME_DESCRIPTION, nameOf, wide } from './columns';
import { parseTimestamp, timestampAge } from './duration';
import type { JsonObject } from './json';
import { field, has, numberAt, stringAt } from './json';

const EVENT_COLUMNS: ColumnDefinition[] = [
  column('Last Seen', 'string', 'How long ago the event was last observed (lastTimestamp).'),
  column('Type', 'string', 'The kind of event: Normal or Warning.'),
  column('Reason', 'string', 'A short, machine-readable reason for the transition the event reports.'),
  column('Object', 'string', 'The object the event is about (involvedObject).'),
  wide('Subobject', 'string', 'The part of the object the event is about, such as a container (involvedObject.fieldPath).'),
  wide('Source', 'string', 'The component (and host) that reported the event.'),
  column('Message', 'string', 'A human-readable description of the event.'),
  wide('First Seen', 'string', 'How long ago the event was first observed (firstTimestamp).'),
  wide('Count', 'string', 'How many times the event has occurred.'),
  column('Name', 'string', NAME_DESCRIPTION, { priority: 1, format: 'name' }),
];

function firstNonEmpty(...values: string[]): string {
  return values.find((v) => v !== '') ?? '';
}

/** formatEventSource: "component" or "component, host". */
export function eventSource(ev: JsonObject): string {
  const component = firstNonEmpty(stringAt(ev, 'source', 'component'), stringAt(ev, 'reportingComponent'));
  const host = firstNonEmpty(stringAt(ev, 'source', 'host'), stringAt(ev, 'reportingInstance'));
  return host === '' ? component : `${component}, ${host}`;
}

/** "pod/web-1": the involved object's kind in lower case and its name (just the kind without a name). */
export function eventObject(ev: JsonObject): string {
  const kind = stringAt(ev, 'involvedObject', 'kind').toLowerCase();
  const name = stringAt(ev, 'involvedObject', 'name');
  return name === '' ? kind : `${kind}/${name}`;
}

/** FIRST SEEN, LAST SEEN and COUNT of an event. */
export function eventTimes(ev: JsonObject, now: number): { firstSeen: string; lastSeen: string; count: number } {
  const isSet = (key: string) => parseTimestamp(field(ev, key)) !== undefined;
  const firstSeen = timestampAge(field(ev, isSet('firstTimestamp') ? 'firstTimestamp' : 'eventTime'), now);
  let lastSeen = isSet('lastTimestamp') ? timestampAge(field(ev, 'lastTimestamp'), now) : firstSeen;
  let count = numberAt(ev, 'count');
  if (has(ev, 'series')) {
    lastSeen = timestampAge(field(ev, 'series', 'lastObservedTime'), now);
    count = numberAt(ev, 'series', 'count');
  } else if (count === 0) {
    // Singleton events of the events.k8s.io API carry no count.
    count = 1;
  }
  return { firstSeen, lastSeen, count };
}

export const eventColumns: PrinterColumns = {
  columns: EVENT_COLUMNS,
  cells(ev, now) {
    const t = eventTimes(ev, now);
    return [
      t.lastSeen,
      stringAt(ev, 'type'),
      stringAt(ev, 'reason'),
      eventObject(ev),
      stringAt(ev, 'involvedObject', 'fieldPath'),
      eventSource(ev),
      stringAt(ev, 'message').trim(),
      t.firstSeen,
      t.count,
      nameOf(ev),
    ];
  },
};
