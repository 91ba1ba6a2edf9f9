import type * as cog from '@grafana/grafana-foundation-sdk/cog';
import type * as dash from '@grafana/grafana-foundation-sdk/dashboard';
import { ALERTMANAGER_UID } from './panels.js';

/*
 * Grafana's "Alert groups" panel (type alertGroups) lists what Alertmanager holds: firing alerts grouped as they are
 * notified, silenced and inhibited ones marked. The foundation SDK has no builder for it (its 10.x releases had
 * one, the current ones do not), so this is the one panel written as raw JSON. The panel does not query its
 * datasource: its `alertmanager` option names the Alertmanager datasource by name, which is the provisioned one's
 * (dashboards/provisioning/datasources, uid crm-alertmanager); the datasource ref says which one that is.
 */
export const ALERTMANAGER_NAME = 'Alertmanager';

export function alertGroupsPanel(spec: {
  title: string;
  description: string;
  width: number;
  height: number;
}): cog.Builder<dash.Panel> {
  return {
    build: () => ({
      type: 'alertGroups',
      title: spec.title,
      description: spec.description,
      datasource: { type: 'alertmanager', uid: ALERTMANAGER_UID },
      gridPos: { x: 0, y: 0, w: spec.width, h: spec.height },
      options: { alertmanager: ALERTMANAGER_NAME, expandAll: false, labels: '' },
      fieldConfig: { defaults: { unit: 'none' }, overrides: [] },
    }),
  };
}
