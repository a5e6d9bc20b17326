// The schedule stage's public face: what commands import.
export { applyPlan, listSchedules, planAdd, planRemove } from './service';
export type { ListedSchedule, Plan, ScheduleOptions, When } from './service';
export type { Action } from './actions';
export { VIAS } from './backends/types';
export type { Via } from './backends/types';
export type { ScheduleInput } from './model';
