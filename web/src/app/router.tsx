/**
 * Every route of the app. Signed-out pages are in the first chunk (the sign-in page's budget
 * is 200 KB of gzipped JS); everything behind sign-in is loaded on use with `lazy`.
 * Add a page: a component in src/features/<feature>/routes/, then one entry here (CONVENTIONS.md).
 */
import { createBrowserRouter, type RouteObject } from 'react-router';
import { AcceptInvitation } from '@/features/auth/routes/AcceptInvitation';
import { ForgotPassword } from '@/features/auth/routes/ForgotPassword';
import { ResetPassword } from '@/features/auth/routes/ResetPassword';
import { SignIn } from '@/features/auth/routes/SignIn';
import { SignUp } from '@/features/auth/routes/SignUp';
import { VerifyEmail } from '@/features/auth/routes/VerifyEmail';
import { NotFound } from './NotFound';
import { RedirectIfSignedIn, RequireAuth } from './guards';
import { Shell } from './Shell';
import { AdminLayout } from './AdminLayout';

/** A lazily loaded route: `page(() => import('...'), 'Name')`. */
function page<M>(load: () => Promise<M>, name: keyof M): RouteObject['lazy'] {
  return async () => ({ Component: (await load())[name] as React.ComponentType });
}

export const routes: RouteObject[] = [
  {
    Component: Shell,
    children: [
      {
        Component: RedirectIfSignedIn,
        children: [
          { path: '/sign-in', Component: SignIn },
          { path: '/sign-up', Component: SignUp },
        ],
      },
      { path: '/verify-email', Component: VerifyEmail },
      { path: '/forgot-password', Component: ForgotPassword },
      { path: '/reset-password', Component: ResetPassword },
      { path: '/invitations/accept', Component: AcceptInvitation },
      // Sign-in with a provider (docs/oauth.md): the API's callback lands here; the mailed link-your-account link too.
      // Loaded on use: they are not the sign-in page, whose first load has a budget (bench/web_sizes.py).
      { path: '/oauth/complete', lazy: page(() => import('@/features/auth/routes/OAuthComplete'), 'OAuthComplete') },
      { path: '/oauth/link', lazy: page(() => import('@/features/auth/routes/OAuthLink'), 'OAuthLink') },
      {
        Component: RequireAuth,
        children: [
          { path: '/', lazy: page(() => import('@/features/tenants/routes/Home'), 'Home') },
          { path: '/tenants/new', lazy: page(() => import('@/features/tenants/routes/CreateTenant'), 'CreateTenant') },
          { path: '/t/:tenantId', lazy: page(() => import('@/features/dashboard/routes/Dashboard'), 'Dashboard') },
          {
            path: '/t/:tenantId/servers/new',
            lazy: page(() => import('@/features/servers/routes/CreateServer'), 'CreateServer'),
          },
          {
            path: '/t/:tenantId/servers/:serverId/progress/:operationId',
            lazy: page(() => import('@/features/servers/routes/Progress'), 'Progress'),
          },
          {
            path: '/t/:tenantId/servers/:serverId',
            lazy: page(() => import('@/features/servers/routes/ServerPage'), 'ServerPage'),
          },
          {
            path: '/t/:tenantId/servers/:serverId/files/*',
            lazy: page(() => import('@/features/files/routes/FilesPage'), 'FilesPage'),
          },
          {
            path: '/t/:tenantId/servers/:serverId/metrics',
            lazy: page(() => import('@/features/servers/routes/MetricsPage'), 'MetricsPage'),
          },
          // Backups, server settings, members and access, billing, account (issue 11 item 5, second engineer).
          {
            path: '/t/:tenantId/servers/:serverId/backups',
            lazy: page(() => import('@/features/backups/routes/BackupsPage'), 'BackupsPage'),
          },
          {
            path: '/t/:tenantId/servers/:serverId/schedules',
            lazy: page(() => import('@/features/schedules/routes/SchedulesPage'), 'SchedulesPage'),
          },
          // Backups whose server was deleted (locked ones outlive it, issue 18 item 7).
          { path: '/t/:tenantId/backups', lazy: page(() => import('@/features/backups/routes/KeptBackupsPage'), 'KeptBackupsPage') },
          {
            path: '/t/:tenantId/servers/:serverId/settings',
            lazy: page(() => import('@/features/server-settings/routes/ServerSettingsPage'), 'ServerSettingsPage'),
          },
          { path: '/t/:tenantId/members', lazy: page(() => import('@/features/members/routes/MembersPage'), 'MembersPage') },
          { path: '/t/:tenantId/roles', lazy: page(() => import('@/features/roles/routes/RolesPage'), 'RolesPage') },
          { path: '/t/:tenantId/audit', lazy: page(() => import('@/features/audit/routes/AuditPage'), 'AuditPage') },
          // Outgoing webhooks and their delivery log (issue 14).
          { path: '/t/:tenantId/webhooks', lazy: page(() => import('@/features/webhooks/routes/WebhooksPage'), 'WebhooksPage') },
          { path: '/t/:tenantId/webhooks/:webhookId', lazy: page(() => import('@/features/webhooks/routes/WebhookPage'), 'WebhookPage') },
          { path: '/t/:tenantId/billing', lazy: page(() => import('@/features/billing/routes/BillingPage'), 'BillingPage') },
          // Stripe's return URL (mamba/services/billing.py) is /tenants/<id>/billing.
          { path: '/tenants/:tenantId/billing', lazy: page(() => import('@/features/billing/routes/BillingPage'), 'BillingReturn') },
          { path: '/account', lazy: page(() => import('@/features/account/routes/AccountPage'), 'AccountPage') },
          { path: '/account/two-factor', lazy: page(() => import('@/features/two-factor/routes/TwoFactorPage'), 'TwoFactorPage') },
          { path: '/account/api-keys', lazy: page(() => import('@/features/api-keys/routes/ApiKeysPage'), 'ApiKeysPage') },
          {
            path: '/account/notifications',
            lazy: page(() => import('@/features/notifications/routes/NotificationPreferencesPage'), 'NotificationPreferencesPage'),
          },
          { path: '/notifications', lazy: page(() => import('@/features/notifications/routes/NotificationsPage'), 'NotificationsPage') },
          // The admin console (issue 12): platform admins only (AdminLayout), one feature folder per section.
          {
            path: '/admin',
            Component: AdminLayout,
            children: [
              { index: true, lazy: page(() => import('@/features/admin-overview/routes/OverviewPage'), 'OverviewPage') },
              { path: 'nodes', lazy: page(() => import('@/features/admin-nodes/routes/NodesPage'), 'NodesPage') },
              { path: 'nodes/new', lazy: page(() => import('@/features/admin-nodes/routes/NewNodePage'), 'NewNodePage') },
              { path: 'nodes/:nodeId', lazy: page(() => import('@/features/admin-nodes/routes/NodePage'), 'NodePage') },
              { path: 'blueprints', lazy: page(() => import('@/features/admin-blueprints/routes/BlueprintsPage'), 'BlueprintsPage') },
              { path: 'blueprints/:blueprintId', lazy: page(() => import('@/features/admin-blueprints/routes/BlueprintPage'), 'BlueprintPage') },
              { path: 'plans', lazy: page(() => import('@/features/admin-plans/routes/PlansPage'), 'PlansPage') },
              { path: 'tenants', lazy: page(() => import('@/features/admin-tenants/routes/TenantsPage'), 'TenantsPage') },
              { path: 'tenants/:tenantId', lazy: page(() => import('@/features/admin-tenants/routes/TenantPage'), 'TenantPage') },
              { path: 'users', lazy: page(() => import('@/features/admin-users/routes/UsersPage'), 'UsersPage') },
              { path: 'users/:userId', lazy: page(() => import('@/features/admin-users/routes/UserPage'), 'UserPage') },
              { path: 'servers', lazy: page(() => import('@/features/admin-servers/routes/ServersPage'), 'ServersPage') },
              { path: 'servers/:serverId', lazy: page(() => import('@/features/admin-servers/routes/ServerPage'), 'ServerPage') },
              { path: 'operations', lazy: page(() => import('@/features/admin-operations/routes/OperationsPage'), 'OperationsPage') },
              { path: 'operations/:operationId', lazy: page(() => import('@/features/admin-operations/routes/OperationPage'), 'OperationPage') },
              { path: 'dead-letters', lazy: page(() => import('@/features/admin-operations/routes/DeadLettersPage'), 'DeadLettersPage') },
              { path: 'audit', lazy: page(() => import('@/features/admin-audit/routes/AuditPage'), 'AuditPage') },
              { path: 'application-keys', lazy: page(() => import('@/features/admin-application-keys/routes/ApplicationKeysPage'), 'ApplicationKeysPage') },
            ],
          },
        ],
      },
      { path: '*', Component: NotFound },
    ],
  },
];

export const router = createBrowserRouter(routes);
